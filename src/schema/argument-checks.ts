// A field's own check of its arguments, run before its resolver: `extensions: { checkArguments }`.
// For fields whose resolver Pothos writes (its Prisma connections decode `after` and `before`
// before the field's `resolve` sees them, and refuse a cursor that is not theirs without naming
// the argument), so that such input is refused as every other field refuses it. A Pothos plugin
// (https://pothos-graphql.dev/docs/guide/writing-plugins): its wrapResolve is the one place
// that runs before a resolver Pothos made.
import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';

type CheckArguments = (args: Record<string, unknown>) => void;

export class ArgumentChecksPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const check = fieldConfig.extensions?.checkArguments as CheckArguments | undefined;
    if (!check) return resolver;
    return (parent, args, context, info) => {
      check(args as Record<string, unknown>);
      return resolver(parent, args, context, info);
    };
  }
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
