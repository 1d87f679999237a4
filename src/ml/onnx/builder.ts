import { onnx } from 'onnx-proto';

/**
 * A small builder for the ONNX graphs of Allied's own models. Weights are
 * initializers (raw little-endian bytes, so a million floats cost one copy);
 * inputs and outputs are declared with their element type and shape (a
 * string dimension is symbolic, such as the batch).
 */

export type ElementType = 'float32' | 'int32' | 'int64';
export type Dim = number | string;

const DATA_TYPE: Record<ElementType, onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
};

/** The opset the graphs are written for: TopK with K as an input, Gather, MatMul and Cast as of opset 13. */
export const OPSET = 17;

type AttributeValue = number | number[] | string;

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();

  constructor(private readonly name: string) {}

  input(name: string, type: ElementType, shape: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, shape));
    return name;
  }

  output(name: string, type: ElementType, shape: Dim[]): string {
    this.outputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** A constant tensor in the graph. */
  initializer(name: string, type: ElementType, dims: number[], values: Float32Array | Int32Array | BigInt64Array): string {
    const count = dims.reduce((n, d) => n * d, 1);
    if (values.length !== count) throw new RangeError(`${name}: ${values.length} values for dims [${dims.join(', ')}]`);
    this.initializers.push({
      name: this.claim(name),
      dataType: DATA_TYPE[type],
      dims,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    });
    return name;
  }

  /** A node of `op` from `inputs` to one output named `output`. */
  node(op: string, inputs: string[], output: string, attributes: Record<string, AttributeValue> = {}): string {
    this.nodes.push({
      opType: op,
      name: `${op}_${this.nodes.length}`,
      input: inputs,
      output: [this.claim(output)],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return output;
  }

  /** A node with several outputs (TopK: values and indices). */
  nodeOutputs(op: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): string[] {
    this.nodes.push({
      opType: op,
      name: `${op}_${this.nodes.length}`,
      input: inputs,
      output: outputs.map((o) => this.claim(o)),
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /** The serialised model. */
  toBytes(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'allied',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: the name ${name} is used twice`);
    this.names.add(name);
    return name;
  }
}

function valueInfo(name: string, type: ElementType, shape: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.INT, i: value };
}
