/**
 * The page: plain HTML, CSS and a small script (no framework, no CDN), kept as files in static/ and read once at start. The script builds every cell with textContent, never HTML.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STATIC = join(dirname(fileURLToPath(import.meta.url)), 'static');
const read = (name: string): string => readFileSync(join(STATIC, name), 'utf8');

export const PAGE_HTML = read('index.html');
export const PAGE_SCRIPT = read('dashboard.js');
export const PAGE_STYLE = read('dashboard.css');
