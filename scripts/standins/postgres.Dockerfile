# Stand-in for postgres:<major>-trixie: Debian's PostgreSQL packages, laid out like the official image
# (user postgres uid 999, PGDATA /var/lib/postgresql/data, POSTGRES_USER / POSTGRES_DB /
# POSTGRES_PASSWORD(_FILE) initialise an empty data directory on first start, then `postgres`).
ARG BASE=local/debian:trixie
FROM ${BASE}
ARG PG_MAJOR=17
# No cluster from the package's postinst: the entrypoint initialises PGDATA itself, like the official image.
# The user first (uid 999 as in the official image), before the package would create its own.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends passwd \
 && groupadd -r -g 999 postgres && useradd -r -g postgres -u 999 --home-dir /var/lib/postgresql --shell /bin/bash postgres \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-common gosu \
 && sed -ri 's/#?(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}" \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql && chmod 3777 /var/run/postgresql
ENV PG_MAJOR=${PG_MAJOR} PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
# Smart shutdown, as in the official image.
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
