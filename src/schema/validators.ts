import { registerDecorator, type ValidationOptions } from 'class-validator';

/** Rejects strings that are empty or only whitespace. */
export function IsNotBlank(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isNotBlank',
      target: target.constructor,
      propertyName: property,
      options: { message: `${property} must not be blank`, ...options },
      validator: { validate: (value: unknown) => value == null || (typeof value === 'string' && /\S/.test(value)) },
    });
}

export const MAX_RESOURCES = 32;

/** What a brand brings to an alliance: capability name (1..64 chars) -> number in 0..1, at most 32. */
export function isResources(value: unknown): value is Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length <= MAX_RESOURCES &&
    entries.every(
      ([key, v]) => key.length >= 1 && key.length <= 64 && typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1,
    )
  );
}

export function IsResources(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isResources',
      target: target.constructor,
      propertyName: property,
      options: {
        message: `${property} must be an object of at most ${MAX_RESOURCES} capabilities, each a number in 0..1 (e.g. {"content": 0.8})`,
        ...options,
      },
      validator: { validate: (value: unknown) => value == null || isResources(value) },
    });
}
