# Stand-in for quay.io/keycloak/keycloak: the Maven Central distribution on Debian with a JRE,
# laid out like the official image (/opt/keycloak owned by uid 1000, group 0; ENTRYPOINT kc.sh).
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 keycloak && useradd --uid 1000 --gid 0 --home-dir /opt/keycloak --no-create-home keycloak
COPY keycloak /opt/keycloak
# data/ must exist and be writable before anything mounts or copies into data/import as root.
RUN mkdir -p /opt/keycloak/data/import && chown -R 1000:0 /opt/keycloak && chmod -R g+rwX /opt/keycloak
USER 1000
EXPOSE 8080 8443 9000
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
