/**
 * Vite: the app and, in `vite` and `vite preview`, a same-origin proxy to the node (`/rpc`) and the indexer
 * (`/indexer`), so the browser needs no CORS from either. Environment (documented in app/README.md and the root
 * .env.example): APP_RPC_URL (default http://127.0.0.1:8545), APP_INDEXER_URL (default http://127.0.0.1:42069).
 */
import react from "@vitejs/plugin-react";
import { defineConfig, type ProxyOptions } from "vite";

const rpcUrl = process.env.APP_RPC_URL || "http://127.0.0.1:8545";
const indexerUrl = process.env.APP_INDEXER_URL || "http://127.0.0.1:42069";

const proxy: Record<string, ProxyOptions> = {
  "/rpc": { target: rpcUrl, changeOrigin: true, rewrite: () => "/" },
  "/indexer": { target: indexerUrl, changeOrigin: true, rewrite: (p) => p.replace(/^\/indexer/, "") || "/" },
};

export default defineConfig({
  plugins: [react()],
  server: { host: "127.0.0.1", strictPort: true, proxy },
  preview: { host: "127.0.0.1", strictPort: true, proxy },
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 2_000 },
});
