import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import openapi from '../../api/openapi.json';
import { ValidationError, type FieldProblem } from '../orders/errors';

const SPEC_ID = 'https://orderlab.local/openapi.json';

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema: object;
}
interface Operation {
  readonly operationId?: string;
  readonly parameters?: readonly (Parameter | { readonly $ref: string })[];
  readonly requestBody?: { readonly content: Record<string, { readonly schema: object }> };
}

/** Bodies as sent (no coercion); path and query parameters arrive as strings and are coerced (limit → number). */
function newAjv(coerceTypes: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true, coerceTypes, useDefaults: false });
  addFormats(ajv);
  ajv.addSchema({ $id: SPEC_ID, components: openapi.components });
  return ajv;
}
const bodyAjv = newAjv(false);
const parameterAjv = newAjv(true);

function resolveParameter(p: Parameter | { readonly $ref: string }): Parameter {
  if (!('$ref' in p)) return p;
  const name = p.$ref.replace('#/components/parameters/', '');
  return (openapi.components.parameters as Record<string, Parameter>)[name]!;
}

/** A schema pointing into the document: its $refs are resolved against the served components. */
function anchored(schema: object): object {
  return JSON.parse(
    JSON.stringify(schema).replaceAll('"#/components/', `"${SPEC_ID}#/components/`),
  ) as object;
}

function operation(operationId: string): Operation {
  for (const item of Object.values(openapi.paths as Record<string, Record<string, Operation>>)) {
    for (const op of Object.values(item)) if (op.operationId === operationId) return op;
  }
  throw new Error(`no operation ${operationId} in service/api/openapi.json`);
}

function parametersSchema(parameters: readonly Parameter[], closed: boolean): object {
  return {
    type: 'object',
    properties: Object.fromEntries(parameters.map((p) => [p.name, anchored(p.schema)])),
    required: parameters.filter((p) => p.required).map((p) => p.name),
    ...(closed ? { additionalProperties: false } : {}),
  };
}

/**
 * Validates a request against its operation in the served OpenAPI document — path and query
 * parameters (unknown query parameters refused; values coerced in place) and the JSON body — so the
 * document and the checks cannot drift apart. Throws one ValidationError naming every bad field.
 */
export function operationValidator(
  operationId: string,
): (request: { path: object; query: object; body: unknown }) => void {
  const op = operation(operationId);
  const parameters = (op.parameters ?? []).map(resolveParameter);
  const path = parameterAjv.compile(
    parametersSchema(
      parameters.filter((p) => p.in === 'path'),
      false,
    ),
  );
  const query = parameterAjv.compile(
    parametersSchema(
      parameters.filter((p) => p.in === 'query'),
      true,
    ),
  );
  const bodySchema = op.requestBody?.content['application/json']?.schema;
  const body = bodySchema ? bodyAjv.compile(anchored(bodySchema)) : undefined;
  return (request) => {
    const problems: FieldProblem[] = [];
    if (!path(request.path)) problems.push(...toFieldProblems(path.errors ?? [], 'parameter'));
    if (!query(request.query)) problems.push(...toFieldProblems(query.errors ?? [], 'query parameter'));
    if (body && !body(request.body)) problems.push(...toFieldProblems(body.errors ?? [], 'field'));
    if (problems.length > 0) throw new ValidationError(problems);
  };
}

/** Body fields are JSON pointers (/items/0/sku); parameters are named as they are (limit, id). */
function toFieldProblems(
  errors: readonly ErrorObject[],
  what: 'field' | 'parameter' | 'query parameter',
): FieldProblem[] {
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const e of errors) {
    const described = describe(e, what);
    const pointer = what === 'field' ? described.pointer : described.pointer.replace(/^\//, '');
    const { detail } = described;
    const key = `${pointer}|${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ pointer, detail });
  }
  return problems;
}

function describe(e: ErrorObject, what: string): FieldProblem {
  const at = e.instancePath || '/';
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String((e.params as { additionalProperty: string }).additionalProperty);
      return { pointer: `${e.instancePath}/${name}`, detail: `unknown ${what} '${name}'` };
    }
    case 'required': {
      const name = String((e.params as { missingProperty: string }).missingProperty);
      return { pointer: `${e.instancePath}/${name}`, detail: 'is required' };
    }
    case 'type':
      // A query parameter given twice arrives as an array.
      return Array.isArray(e.data) && what !== 'field'
        ? { pointer: at, detail: 'must be given once' }
        : { pointer: at, detail: `must be ${(e.params as { type: string }).type}` };
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
