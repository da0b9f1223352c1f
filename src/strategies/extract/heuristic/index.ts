/**
 * The heuristic extractor: what a user says about themselves, as typed third-person facts, with
 * no model call.
 *
 * @module
 */

export { type HeuristicExtractorOptions, heuristicExtractor } from './heuristic-extractor.js';
