# One image for every service; the command picks which (npm start runs all in one process).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json .npmrc ./
COPY packages/core/package.json packages/core/
COPY packages/samples/package.json packages/samples/
COPY services/all/package.json services/all/
COPY services/ingest/package.json services/ingest/
COPY services/worker/package.json services/worker/
COPY services/api/package.json services/api/
# Dev dependencies stay: the Prisma CLI applies migrations and tsx runs the TypeScript sources.
RUN npm ci --include=dev

COPY . .
# Prisma needs DATABASE_URL to pick the driver adapter even to generate; nothing connects here.
RUN DATABASE_URL=postgresql://build@localhost:5432/build npx prisma generate

USER node
EXPOSE 9101 9102
CMD ["npm", "start"]
