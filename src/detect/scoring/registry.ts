// The scoring methods, one file each, in one explicit list: `fitScorer` and `score` look a method up here.
import { conditional } from './conditional.ts';
import { ensemble } from './ensemble.ts';
import { iforest } from './iforest.ts';
import { knn, knnRelative } from './knn.ts';
import { lof } from './lof.ts';
import type { ScoringMethod, ScoringMethodDef } from './types.ts';

/** Every scoring method by name. */
export const METHODS: Readonly<Record<ScoringMethod, ScoringMethodDef>> = {
  knn,
  'knn-relative': knnRelative,
  lof,
  iforest,
  ensemble,
  conditional,
};

/** The method names, in the order the documentation lists them. */
export const METHOD_NAMES = Object.keys(METHODS) as ScoringMethod[];
