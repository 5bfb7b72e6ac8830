/**
 * @module cli
 * The `warden` command: the composition root. Reads config, picks adapters, wires parts;
 * the only place that chooses embedded or scaled-out.
 */
import { main } from './program.js';

await main(process.argv);
