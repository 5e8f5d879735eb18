import { z } from 'zod';

/** JSON Schema (draft 2020-12) of a config schema, as a pretty-printed string, for forms and docs. */
export function toJsonSchemaString(schema: z.ZodType): string {
  return JSON.stringify(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), null, 2);
}

/**
 * Top-level fields marked `keychain: true` in their zod metadata: secrets a UI should store in a
 * keychain rather than a config file (e.g. `apiKey`).
 */
export function keychainFields(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { keychain?: unknown }>;
  };
  return Object.entries(json.properties ?? {})
    .filter(([, property]) => property.keychain === true)
    .map(([name]) => name);
}
