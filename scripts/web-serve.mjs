// npm run web: serve the built app (web/dist) and print its URL.
import { preview } from "vite";

const server = await preview({ configFile: new URL("../web/vite.config.ts", import.meta.url).pathname, preview: { port: Number(process.env.PORT ?? 5175), open: false } });
const url = server.resolvedUrls?.local[0] ?? `http://localhost:${server.config.preview.port}/`;
console.log(`neuroplastic app: ${url}   (Ctrl-C to stop)`);
