// Learning-rate schedules, evaluated per optimisation step in TypeScript.

export interface ScheduleOptions {
  /** 'cosine' anneals from `lr` to `minLr` over the run; 'constant' keeps `lr`. */
  kind: 'cosine' | 'constant';
  lr: number;
  minLr: number;
  /** Linear warm-up from lr/warmupSteps to lr over the first steps. */
  warmupSteps: number;
  totalSteps: number;
}

/** The learning rate for the update that follows `completed` steps. */
export function learningRate(s: ScheduleOptions, completed: number): number {
  if (s.warmupSteps > 0 && completed < s.warmupSteps) return (s.lr * (completed + 1)) / s.warmupSteps;
  if (s.kind === 'constant') return s.lr;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (completed - s.warmupSteps) / span);
  return s.minLr + (s.lr - s.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
