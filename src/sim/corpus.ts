/**
 * The prompt corpora shipped in `data/prompts/<name>/prompts.jsonl` (real public datasets,
 * permissively licensed; see each SOURCE.md).
 */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ConfigError } from '../core/index.js';

export const CORPORA = [
  'oasst',
  'arena-hard',
  'awesome-chatgpt',
  'self-instruct',
  'flan-cot',
  'gsm8k',
  'human-eval',
  'mmlu',
  'mt-bench',
] as const;
export type CorpusName = (typeof CORPORA)[number];

export interface Prompt {
  id: string;
  text: string;
  tags: { lang?: string; subject?: string; category?: string; [k: string]: unknown };
}

export interface Corpus {
  name: CorpusName;
  prompts: Prompt[];
  /** Prompts grouped by `tags.subject` or `tags.category` (the capability taxonomy), in file order. */
  bySubject: Map<string, Prompt[]>;
  /** Prompts containing Chinese text. */
  zh: Prompt[];
  /** Prompts without Chinese text. */
  other: Prompt[];
}

/** `data/prompts` of this repository (two levels above `src/sim` or `dist/sim`). */
export function defaultPromptDir(): string {
  return fileURLToPath(new URL('../../data/prompts/', import.meta.url));
}

const cache = new Map<string, Corpus>();

export function loadCorpus(name: CorpusName, dir = defaultPromptDir()): Corpus {
  const key = `${dir}\u0000${name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const file = join(dir, name, 'prompts.jsonl');
  if (!existsSync(file)) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `prompt corpus "${name}" not found at ${file}. Rebuild it with \`python3 data/prompts/build.py <shared-data-dir>\` or pass promptDir.`,
    );
  }
  const prompts: Prompt[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as Prompt;
    prompts.push(p);
  }
  const bySubject = new Map<string, Prompt[]>();
  for (const p of prompts) {
    const s = String(p.tags.subject ?? p.tags.category ?? p.tags['task'] ?? 'general');
    let list = bySubject.get(s);
    if (!list) bySubject.set(s, (list = []));
    list.push(p);
  }
  const corpus: Corpus = {
    name,
    prompts,
    bySubject,
    zh: prompts.filter((p) => p.tags.lang === 'zh'),
    other: prompts.filter((p) => p.tags.lang !== 'zh'),
  };
  cache.set(key, corpus);
  return corpus;
}
