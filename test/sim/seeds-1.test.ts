/** The simulator's CI seeds, part 1 of the `CI_FILES` files (the split and the knobs: ./ci-seeds.ts). */
import { seedsSuite } from './ci-seeds.js';

seedsSuite(0);
