import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by the API at /dashboard/; `npx vite` proxies the API of a local `npm start`.
export default defineConfig({
  base: '/dashboard/',
  plugins: [react()],
  build: { outDir: 'dist', target: 'es2022' },
  server: { proxy: { '/trpc': 'http://127.0.0.1:3000' } },
});
