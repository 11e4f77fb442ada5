# Twinbridge: node:24 (LTS), production dependencies only (`npm start` builds dist/ with esbuild, then runs it).
FROM node:24

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
RUN npm ci --omit=dev

COPY . .

EXPOSE 8080
CMD ["npm", "start"]
