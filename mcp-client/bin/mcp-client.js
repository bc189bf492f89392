#!/usr/bin/env node
// The `mcp-client` command. This file is committed, not built, so that npm can link it when it
// installs (before `npm run build` creates dist/); it runs the built CLI.
let cli;
try {
  cli = await import('../dist/cli.js');
} catch (err) {
  const missing = err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('mcp-client/dist/cli.js');
  if (!missing) throw err;
  process.stderr.write(
    'mcp-client: not built yet: run `npm run build` first ' +
      '(or run the sources: node --conditions=development mcp-client/src/cli.ts)\n',
  );
  process.exit(2);
}
process.exitCode = await cli.runCli(process.argv.slice(2));
