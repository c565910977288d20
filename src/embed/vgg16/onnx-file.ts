/**
 * An ONNX model given as `--weights model.onnx` (a PyTorch export of VGG-16, say),
 * cut at the layer we want and cached.
 *
 * ONNX Runtime returns only graph outputs, and an exported VGG-16 outputs fc8 logits,
 * so the graph is rewritten: nodes the chosen layer does not depend on are dropped and
 * the layer becomes the only output. The weights are not copied: an initializer stored
 * inline in the original file becomes external data pointing at its byte range in that
 * file, hard-linked into the cache folder (see model-files.ts), so the rewritten model is
 * small and ONNX Runtime reads the weights from the original bytes.
 *
 * `<cache>/onnx/<sha256 of the file, 32 hex>/` holds `source.onnx` (the link), links to
 * any external data files the model had, `data.json`, and one `cut-g<v>-<layer>.onnx`
 * per layer asked for.
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, basename } from 'node:path';
import onnxProto from 'onnx-proto';
import { readJsonFile, writeAtomic } from '../../atlas/files.js';
import { AtlasError } from '../../errors.js';
import { placeFile, placedFileValid, safeName, type PlacedFile } from './model-files.js';

const { onnx } = onnxProto;
type IGraph = onnxProto.onnx.IGraphProto;
type INode = onnxProto.onnx.INodeProto;

/** Bumped when the rewriting changes, so older cut models are made again. */
const CUT_VERSION = 1;

/** Inline initializers at least this big are pointed at in the source file rather than re-encoded. */
const EXTERNALISE_BYTES = 1024;

interface OnnxManifest {
  version: 1;
  sha256: string;
  /** The default layer (see `defaultLayer`), found once. */
  defaultLayer: string;
  files: PlacedFile[];
}

export interface PreparedOnnx {
  modelPath: string;
  /** The output layer (a node output name of the original model). */
  layer: string;
  /** Whether this call wrote the cut model (false: it came from the cache). */
  built: boolean;
}

/** Fully-connected nodes, as PyTorch exports `nn.Linear` (Gemm, or MatMul + Add). */
function isFc(n: INode): boolean {
  return n.opType === 'Gemm' || n.opType === 'MatMul';
}

/**
 * The default layer: fc7 before its ReLU. In a whole VGG-16 (fc6, fc7, fc8) that is the
 * output of the second-to-last fully-connected node; a model with fewer than three was
 * already cut after fc7 (as torchvision's `classifier[:4]`), so it is the last one. A
 * MatMul whose result only feeds an Add (the bias) counts as that Add. With no
 * fully-connected node at all, the model's first output.
 */
export function defaultLayer(graph: IGraph): string {
  const nodes = graph.node ?? [];
  const fcs = nodes.filter(isFc);
  if (fcs.length === 0) {
    const out = graph.output?.[0]?.name;
    if (!out) throw new AtlasError('MODEL', 'the ONNX model has no outputs');
    return out;
  }
  const fc = fcs.length >= 3 ? fcs[fcs.length - 2] : fcs[fcs.length - 1];
  const out = fc.output![0];
  if (fc.opType === 'MatMul') {
    const consumers = nodes.filter((n) => n.input?.includes(out));
    if (consumers.length === 1 && consumers[0].opType === 'Add') return consumers[0].output![0];
  }
  return out;
}

/** Names a node reads, including those its subgraphs (If, Loop, Scan bodies) read from the outer scope. */
function nodeReads(n: INode, into: Set<string>): void {
  for (const i of n.input ?? []) if (i) into.add(i);
  for (const a of n.attribute ?? []) {
    for (const g of [a.g, ...(a.graphs ?? [])]) {
      if (!g) continue;
      for (const sub of g.node ?? []) nodeReads(sub, into);
    }
  }
}

function listLayers(graph: IGraph, path: string, layer: string): AtlasError {
  const nodes = graph.node ?? [];
  const outputs = nodes.flatMap((n) => n.output ?? []).filter(Boolean);
  // A few useful names: the fully-connected outputs and the last outputs of the graph.
  const shown = [...new Set([...nodes.filter(isFc).map((n) => n.output![0]), ...outputs.slice(-8)])].slice(
    0,
    12,
  );
  return new AtlasError(
    'INVALID_ARGUMENT',
    `unknown layer '${layer}' for ${path}: must be the output of one of its ${nodes.length} nodes, e.g. [${shown.join(', ')}]`,
    {
      value: layer,
      suggestion: `leave out --layer for the default (${defaultLayer(graph)}: fc7 before ReLU)`,
    },
  );
}

/**
 * Returns a model file that computes only `layer` (default: `defaultLayer`) of the ONNX
 * model at `path`, from the cache when it was made before.
 */
export function prepareOnnxModel(
  path: string,
  sha256: string,
  layer: string | undefined,
  cacheRoot: string,
): PreparedOnnx {
  const dir = join(cacheRoot, 'onnx', sha256.slice(0, 32));
  const manifestPath = join(dir, 'data.json');
  const cached = readJsonFile<OnnxManifest>(manifestPath);
  const valid =
    cached?.version === 1 && cached.sha256 === sha256 && cached.files.every((f) => placedFileValid(dir, f));
  if (valid) {
    const want = layer ?? cached.defaultLayer;
    const modelPath = join(dir, `cut-g${CUT_VERSION}-${safeName(want)}.onnx`);
    if (existsSync(modelPath)) return { modelPath, layer: want, built: false };
  }

  const buf = readFileSync(path);
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(buf);
  } catch (err) {
    throw new AtlasError('MODEL', `${path} is not a valid ONNX model: ${(err as Error).message}`, {
      value: path,
      cause: err,
    });
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0)
    throw new AtlasError('MODEL', `${path} is not a valid ONNX model: it has no graph`, { value: path });
  const defLayer = defaultLayer(graph);
  const want = layer ?? defLayer;
  if (!graph.node.some((n) => n.output?.includes(want))) throw listLayers(graph, path, want);

  // Keep the nodes `want` depends on (walking back from it), and what they read.
  const needed = new Set<string>([want]);
  const keep: INode[] = [];
  for (let i = graph.node.length - 1; i >= 0; i--) {
    const n = graph.node[i];
    if (n.output?.some((o) => needed.has(o))) {
      keep.push(n);
      nodeReads(n, needed);
    }
  }
  keep.reverse();

  mkdirSync(dir, { recursive: true });
  const files = valid ? [...cached.files] : [];
  const place = (src: string, name: string): string => {
    if (!files.some((f) => f.name === name)) files.push(placeFile(src, dir, name));
    return name;
  };
  const modelDir = dirname(path);
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  let externalIndex = 0;
  const externalNames = new Map<string, string>();
  for (const t of graph.initializer ?? []) {
    if (!needed.has(t.name ?? '')) continue;
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      // Data already in a file beside the model: link that file in, under a safe name.
      const entries = new Map((t.externalData ?? []).map((e) => [e.key, e.value ?? '']));
      const location = entries.get('location') ?? '';
      const src = normalize(join(modelDir, location));
      if (!location || isAbsolute(location) || !existsSync(src)) {
        throw new AtlasError(
          'MODEL',
          `initializer ${t.name} of ${path} keeps its data in '${location}', which is not a file beside the model`,
          { value: path },
        );
      }
      let name = externalNames.get(src);
      if (!name) {
        name = place(src, `ext-${externalIndex++}-${safeName(basename(src))}`);
        externalNames.set(src, name);
      }
      entries.set('location', name);
      initializers.push({ ...t, externalData: [...entries].map(([key, value]) => ({ key, value })) });
    } else if (t.rawData && t.rawData.byteLength >= EXTERNALISE_BYTES && t.rawData.buffer === buf.buffer) {
      // raw_data was decoded as a view of the file buffer, so its offset in the file is known.
      const offset = t.rawData.byteOffset - buf.byteOffset;
      initializers.push({
        ...t,
        rawData: new Uint8Array(0),
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: place(path, 'source.onnx') },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(t.rawData.byteLength) },
        ],
      });
    } else {
      initializers.push(t);
    }
  }
  const initNames = new Set(initializers.map((t) => t.name));
  const typed = [...(graph.output ?? []), ...(graph.valueInfo ?? [])].find((v) => v.name === want);
  const cut = onnx.ModelProto.create({
    ...model,
    graph: {
      ...graph,
      node: keep,
      initializer: initializers,
      input: (graph.input ?? []).filter((v) => needed.has(v.name ?? '') || initNames.has(v.name ?? '')),
      output: [typed ?? { name: want }],
      valueInfo: (graph.valueInfo ?? []).filter((v) => needed.has(v.name ?? '') && v.name !== want),
    },
  });
  const modelPath = join(dir, `cut-g${CUT_VERSION}-${safeName(want)}.onnx`);
  writeAtomic(modelPath, onnx.ModelProto.encode(cut).finish());
  const manifest: OnnxManifest = { version: 1, sha256, defaultLayer: defLayer, files };
  writeAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return { modelPath, layer: want, built: true };
}
