// `npm start` / `npm run worker`: with NODE_ENV=production the compiled service (`npm run build`
// first): no TypeScript is compiled at start. Otherwise the sources through tsx, as a newcomer
// runs them (no build step).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.env.NODE_ENV === 'production') {
  const compiled = `${root}dist/main.js`;
  if (!existsSync(compiled)) {
    console.error(
      'cannot start: dist/main.js is missing: run `npm run build` first (NODE_ENV=production runs the compiled service)',
    );
    process.exit(1);
  }
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(`${root}src/main.ts`).href);
}
