// A field's own check of its arguments, run before its resolver: `extensions: { checkArguments }`.
// For fields whose resolver Pothos writes (its Prisma connections decode `after` and `before`
// before the field's `resolve` sees them, and refuse a cursor that is not theirs without naming
// the argument), so that such input is refused as every other field refuses it. And the path of
// a refused argument (docs/clients.md): a field taking an `input` object names what a service
// refused by its path from there (`input.baseUrl`), where the service named the input's field
// alone (`baseUrl`), as it does whichever field called it. A Pothos plugin
// (https://pothos-graphql.dev/docs/guide/writing-plugins): its wrapResolve is the one place
// that runs around every resolver, Pothos's own included.
import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { BadInputError } from '../platform/errors.js';

type CheckArguments = (args: Record<string, unknown>) => void;
type Resolver<Context> = GraphQLFieldResolver<unknown, Context, object>;

export class ArgumentChecksPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: Resolver<Types['Context']>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): Resolver<Types['Context']> {
    const check = fieldConfig.extensions?.checkArguments as CheckArguments | undefined;
    const checked: Resolver<Types['Context']> = check
      ? (parent, args, context, info) => {
          check(args as Record<string, unknown>);
          return resolver(parent, args, context, info);
        }
      : resolver;
    const argumentNames = new Set(Object.keys(fieldConfig.args));
    if (!argumentNames.has('input')) return checked;
    return (parent, args, context, info) => {
      try {
        const result = checked(parent, args, context, info);
        if (!isThenable(result)) return result;
        return Promise.resolve(result).catch((error: unknown) => {
          throw underInput(error, argumentNames);
        });
      } catch (error) {
        throw underInput(error, argumentNames);
      }
    };
  }
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/**
 * A refusal naming a field of `input` (not one of the field's own arguments) as `input.<it>`;
 * any other error as it is. The argument is what extensions.argument says (src/schema/errors.ts):
 * the error's own, else the `field` its details name.
 */
function underInput(error: unknown, argumentNames: ReadonlySet<string>): unknown {
  if (!(error instanceof BadInputError)) return error;
  const named =
    error.argument ?? (typeof error.details.field === 'string' ? error.details.field : undefined);
  if (named === undefined || argumentNames.has(/^[^.[]*/.exec(named)![0])) return error;
  (error as { argument?: string }).argument = `input.${named}`;
  return error;
}

const pluginName = 'argumentChecks';

// Pothos's plugin registry is a global namespace (its own plugins declare themselves so).
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      argumentChecks: ArgumentChecksPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin(pluginName, ArgumentChecksPlugin);

export default pluginName;
