/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` serves the app on :5173 and hands the API to `keywarden serve` on :8000.
const api = { target: 'http://127.0.0.1:8000', changeOrigin: true };

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/graphql': { ...api, ws: true },
      '/export': api,
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 800,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    // Two busy cores: a component test's first render can take seconds, and a long story
    // (typing, paging, choosing) took over 30 s with the whole suite running beside it.
    testTimeout: 120_000,
  },
});
