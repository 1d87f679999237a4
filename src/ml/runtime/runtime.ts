import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/builder';

/** Where models run: `auto` tries cuda, then webgpu, then cpu. */
export type MlDevice = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export type Provider = Exclude<MlDevice, 'auto'>;

export const ML_DEVICES: readonly MlDevice[] = ['auto', 'cpu', 'webgpu', 'cuda'];
const AUTO_ORDER: readonly Provider[] = ['cuda', 'webgpu', 'cpu'];

/** A typed array and its shape, as a session takes and returns them. */
export interface TensorData {
  data: Float32Array | Int32Array;
  dims: readonly number[];
}

/** An input; int64 (BigInt64Array) is for graphs Allied did not build, such as registered BERT taggers. */
export interface InputTensor {
  data: Float32Array | Int32Array | BigInt64Array;
  dims: readonly number[];
}

/** One loaded model on one execution provider. */
export interface ModelSession {
  readonly provider: Provider;
  run(feeds: Record<string, InputTensor>): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

/** The device choice could not be served: start-up stops with this message. */
export class DeviceError extends Error {}

type Ort = typeof import('onnxruntime-node');

/**
 * ONNX Runtime behind one small interface. The provider is chosen once, when
 * the runtime opens, by loading a tiny probe graph on each candidate in turn
 * (one provider per attempt: a list of several throws instead of falling
 * back); every session then runs on that provider.
 */
export class ModelRuntime {
  private constructor(
    private readonly ort: Ort,
    readonly provider: Provider,
    /** Why each provider tried before `provider` was not used. */
    readonly skipped: readonly { provider: Provider; reason: string }[],
  ) {}

  /** Opens the runtime on `device`; an explicit device that cannot serve throws DeviceError naming ALLIED_ML_DEVICE. */
  static async open(device: MlDevice): Promise<ModelRuntime> {
    const ort = await import('onnxruntime-node');
    // ONNX Runtime's own log goes to stderr, outside Allied's logger, and
    // repeats what its exceptions say (a missing provider, a bad model):
    // those reach Allied as errors, so only fatal messages are printed.
    ort.env.logLevel = 'fatal';
    const candidates = device === 'auto' ? AUTO_ORDER : [device];
    const skipped: { provider: Provider; reason: string }[] = [];
    for (const provider of candidates) {
      try {
        const probe = await ort.InferenceSession.create(probeGraph(), { executionProviders: [provider] });
        await probe.release();
        return new ModelRuntime(ort, provider, skipped);
      } catch (error) {
        skipped.push({ provider, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) });
      }
    }
    const why = skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
    throw new DeviceError(
      device === 'auto'
        ? `ALLIED_ML_DEVICE=auto: no execution provider could run a model (${why}).`
        : `ALLIED_ML_DEVICE=${device} cannot run models on this machine (${why}); use auto or cpu.`,
    );
  }

  /** A session for one model's bytes, on the runtime's provider. */
  async load(model: Uint8Array): Promise<ModelSession> {
    const session = await this.ort.InferenceSession.create(model, { executionProviders: [this.provider] });
    return new OrtSession(this.ort, session, this.provider);
  }
}

class OrtSession implements ModelSession {
  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly provider: Provider,
  ) {}

  async run(feeds: Record<string, InputTensor>): Promise<Record<string, TensorData>> {
    const inputs: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const type = t.data instanceof Float32Array ? 'float32' : t.data instanceof BigInt64Array ? 'int64' : 'int32';
      inputs[name] = new this.ort.Tensor(type, t.data, t.dims);
    }
    const results = await this.session.run(inputs);
    const out: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(results)) {
      if (!(t.data instanceof Float32Array) && !(t.data instanceof Int32Array)) {
        throw new TypeError(`output ${name} is ${t.type}: Allied's graphs return float32 and int32 only`);
      }
      out[name] = { data: t.data, dims: t.dims };
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** y = x + 1 on a float vector: enough to see that a provider loads and runs a graph. */
function probeGraph(): Uint8Array {
  const g = new GraphBuilder('allied_probe');
  g.input('x', 'float32', [1]);
  g.initializer('one', 'float32', [1], Float32Array.of(1));
  g.node('Add', ['x', 'one'], 'y');
  g.output('y', 'float32', [1]);
  return g.toBytes();
}
