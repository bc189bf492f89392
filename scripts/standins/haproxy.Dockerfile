# Stand-in for haproxy:<version>: Debian's HAProxy package, laid out like the official image
# (configuration at /usr/local/etc/haproxy/haproxy.cfg, runs as user haproxy, master-worker mode
# in the foreground, SIGUSR1 for a soft stop).
ARG BASE=local/debian:trixie
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy && chown haproxy:haproxy /var/lib/haproxy \
 && haproxy -v
COPY haproxy-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER haproxy
WORKDIR /var/lib/haproxy
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
