/** A small hand-written SVG line chart (no dependencies): x categories, log or linear y. */

/** One line of the chart. */
export interface Series {
  readonly label: string;
  /** y per x category, same order as `ChartOptions.x`; NaN leaves a gap. */
  readonly values: readonly number[];
}

/** Options of {@link lineChart}. */
export interface ChartOptions {
  readonly title: string;
  /** x categories, evenly spaced (e.g. requests in flight 1, 4, 16, 32). */
  readonly x: readonly (number | string)[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** y axis scale. Default log (values must be > 0). */
  readonly yScale?: 'log' | 'linear';
  /** Pixel size. Default 720 x 420. */
  readonly width?: number;
  readonly height?: number;
}

const COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e'];
const MARGIN = { top: 40, right: 250, bottom: 50, left: 70 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toPrecision(2).replace(/\.0$/, '');
  return v.toPrecision(1);
}

/** y ticks: powers of ten and their 2x/5x for log, 5 even steps for linear. */
function ticks(min: number, max: number, log: boolean): number[] {
  if (!log) return Array.from({ length: 6 }, (_, i) => min + ((max - min) * i) / 5);
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min && v <= max) out.push(v);
    }
  }
  return out;
}

/**
 * Renders the chart as a standalone SVG document.
 * @throws RangeError when a log scale meets a value <= 0 or there is nothing to plot.
 */
export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 800;
  const height = options.height ?? 420;
  const log = (options.yScale ?? 'log') === 'log';
  const all = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  if (all.length === 0) throw new RangeError('nothing to plot');
  if (log && all.some((v) => v <= 0)) throw new RangeError('a log scale needs values > 0');
  const lo = log ? 10 ** Math.floor(Math.log10(Math.min(...all))) : 0;
  const hi = log ? 10 ** Math.ceil(Math.log10(Math.max(...all))) : Math.max(...all) * 1.1;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const xAt = (i: number) => MARGIN.left + (options.x.length === 1 ? plotW / 2 : (plotW * i) / (options.x.length - 1));
  const yAt = (v: number) => {
    const t = log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
    return MARGIN.top + plotH * (1 - t);
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (const v of ticks(lo, hi, log)) {
    const y = yAt(v).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`,
    );
  }
  options.x.forEach((label, i) => {
    const x = xAt(i).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${escapeXml(String(label))}</text>`,
    );
  });
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}` : ''));
    const segments = pts
      .join(' ')
      .split(/\s{2,}/)
      .map((seg) => seg.trim())
      .filter((seg) => seg.includes(' '));
    for (const seg of segments)
      parts.push(`<polyline points="${seg}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of pts.filter((q) => q !== '')) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"/>`);
    }
    const ly = MARGIN.top + 10 + k * 20;
    const lx = MARGIN.left + plotW + 14;
    parts.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
