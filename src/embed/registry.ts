import { COLOR_DIM, createColorEmbedder } from './color.js';
import type { EmbedderEntry } from './embedder.js';
import { createVgg16Embedder } from './vgg16/embedder.js';

/** Every embedder Film Atlas knows, by id. An unknown id fails listing these. */
export const EMBEDDERS: Record<string, EmbedderEntry> = {
  vgg16: {
    description: 'VGG-16 fc7 before ReLU (4,096-d), ImageNet weights from torchvision, run by ONNX Runtime',
    dim: 4096,
    defaultBatch: 8,
    needsWeights: true,
    create: createVgg16Embedder,
  },
  color: {
    description: 'colour statistics: HSL joint histogram + CIELAB moments (218-d), no weights',
    dim: COLOR_DIM,
    defaultBatch: 64,
    needsWeights: false,
    create: async () => createColorEmbedder(),
  },
};
