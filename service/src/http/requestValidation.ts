import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import openapi from '../../api/openapi.json';
import { ValidationError, type FieldProblem } from '../orders/errors';

const SPEC_ID = 'https://orderlab.local/openapi.json';

/**
 * Validates request bodies against the schemas of the served OpenAPI document, so the document
 * and the checks cannot drift apart.
 */
function compileSchemas(): { createOrder: ValidateFunction } {
  const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
  addFormats(ajv);
  ajv.addSchema({ $id: SPEC_ID, components: openapi.components });
  return {
    createOrder: ajv.compile({ $ref: `${SPEC_ID}#/components/schemas/CreateOrderRequest` }),
  };
}

const validators = compileSchemas();

export function assertCreateOrderBody(body: unknown): asserts body is {
  customerId: string;
  currency: string;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
} {
  if (!validators.createOrder(body)) {
    throw new ValidationError(toFieldProblems(validators.createOrder.errors ?? []));
  }
}

function toFieldProblems(errors: readonly ErrorObject[]): FieldProblem[] {
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const e of errors) {
    const { pointer, detail } = describe(e);
    const key = `${pointer}|${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ pointer, detail });
  }
  return problems;
}

function describe(e: ErrorObject): FieldProblem {
  const at = e.instancePath || '/';
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String((e.params as { additionalProperty: string }).additionalProperty);
      return { pointer: `${e.instancePath}/${name}`, detail: `unknown field '${name}'` };
    }
    case 'required': {
      const name = String((e.params as { missingProperty: string }).missingProperty);
      return { pointer: `${e.instancePath}/${name}`, detail: 'is required' };
    }
    case 'type':
      return { pointer: at, detail: `must be ${(e.params as { type: string }).type}` };
    case 'pattern': {
      // The raw regex means little to a client; the schema's description says what is allowed.
      const description = (e.parentSchema as { description?: unknown } | undefined)?.description;
      return {
        pointer: at,
        detail:
          typeof description === 'string' ? `must be: ${description}` : 'has a format that is not allowed',
      };
    }
    default:
      return { pointer: at, detail: e.message ?? 'is invalid' };
  }
}

export const openApiDocument = openapi;
