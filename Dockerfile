# One image for every Tributary service: `tributary <service>` picks which. The sources are
# TypeScript run through tsx (no build step), so the image is the repo with its dependencies.
# node:20-bookworm (not -slim): re2 builds with node-gyp, which needs python, make and g++.
FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY packages ./packages
COPY services ./services
RUN npm ci --no-audit --no-fund && npm cache clean --force
USER node
ENTRYPOINT ["node", "packages/cli/bin/tributary.js"]
