// The portable entry to anomaly detection: k-NN on an injected ONNX Runtime, scorers, thresholds, metrics.
export * from './iforest.ts';
export * from './knn.ts';
export * from './metrics.ts';
export * from './scorer.ts';
export * from './synthetic.ts';
export * from './threshold.ts';
