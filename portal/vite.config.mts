import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The portal is built into dist/portal and served by the API at /portal, so everything it
 * needs is bundled (no CDN at run time). JSX is compiled by Vite's own transformer; the React
 * plugin would add only Fast Refresh for a dev server, and its optional Babel peers conflict
 * with jest's Babel in this lockfile.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/portal/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/portal', import.meta.url)),
    emptyOutDir: true,
    // React and the Chart.js bar chart come to about 415 kB minified (130 kB gzipped).
    chunkSizeWarningLimit: 450,
  },
});
