/**
 * Maps a path inside a parsed YAML document (`rules[3].when.any[0].in`) back to its line, so
 * every validation problem can name `file:line`.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { Path } from './conditions.js';

export interface Position {
  line: number;
  column: number;
}

/**
 * The position of the deepest node the path reaches. A path ending at a mapping key points at
 * the key (`in:`), so the line is where the reader sees the problem; a path that leaves the
 * document (a missing key) points at the nearest existing parent.
 */
export function positionOf(doc: Document, lc: LineCounter, path: Path): Position {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
