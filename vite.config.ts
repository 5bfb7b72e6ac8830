/**
 * Builds the analyst console (src/console/client, React) into dist/console-ui/, served by
 * `warden serve` under /console/. Its own folder, apart from tsc's dist/console (the server
 * modules), so the static server can only ever hand out the built app.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./src/console/client/', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/console-ui/', import.meta.url));

export default defineConfig(() => {
  return {
    root,
    base: '/console/',
    plugins: [react()],
    build: {
      outDir,
      emptyOutDir: true,
      assetsDir: 'assets',
      sourcemap: false,
      // Everything is bundled and served from 'self' (CSP default-src 'self'): no data: URLs for assets.
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 1500,
      rolldownOptions: { checks: { pluginTimings: false } },
    },
    server: {
      proxy: { '/admin': 'http://127.0.0.1:8787', '/console/api': 'http://127.0.0.1:8787' },
    },
  };
});
