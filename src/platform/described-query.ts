// A raw statement run on node-postgres, its rows made as objects straight from the wire, and a
// prepared statement's result described once per process rather than on every run.
//
// node-postgres asks PostgreSQL to describe the portal on every execution (Describe), and
// builds from each description its column parsers and a template row (Result.addFields: an
// object of every column, made in dictionary mode, then copied), then a row of values per
// DataRow; the pool then made an object of each row (rowsOf, before). For a worker taking tasks
// one at a time that was about a tenth of its CPU (bench/README.md, "Queue"): the description
// was sent, parsed and turned into parsers for every claim. A prepared statement's text fixes its
// columns and their types (a migration that would change them fails the statement: see
// taskColumns in src/queue/task-row.ts), so its first run here describes it and the rest reuse
// what that one built. A subclass of node-postgres' own Query, so that everything else (parse
// once per connection, bind, errors, sync) stays its own; its message handlers are the
// documented Submittable interface (https://node-postgres.com/apis/client#clientquery).
import pg from 'pg';

type Parser = (value: string) => unknown;

/** How a statement's rows are made: a constructor assigning each column by name, and its parsers. */
interface RowShape {
  Row: new (values: ReadonlyArray<string | null>, parsers: readonly Parser[]) => object;
  parsers: Parser[];
}

interface FieldDescription {
  name: string;
  dataTypeID: number;
  format?: string;
}

interface TypeSource {
  getTypeParser(oid: number, format: 'text'): Parser;
}

export interface DescribedResult {
  rows: object[];
  rowCount: number;
}

/** A statement that returns no rows (an insert without RETURNING): nothing to make. */
const NO_ROWS: RowShape = { Row: Object as unknown as RowShape['Row'], parsers: [] };

/** Row constructors by column list: every row of one list has one shape (V8's hidden class). */
const rowConstructors = new Map<string, RowShape['Row']>();
const MAX_ROW_CONSTRUCTORS = 500;
/** Prepared statements' shapes by statement name (the pool's names come from their text). */
const described = new Map<string, RowShape>();
const MAX_DESCRIBED = 500;

/**
 * A constructor that assigns each column by name, parsing it on the way: written with new
 * Function because named stores are what give every row one shape; the names quoted as JSON.
 */
function rowConstructor(names: readonly string[]): RowShape['Row'] {
  const key = names.join('\u0000');
  let Row = rowConstructors.get(key);
  if (!Row) {
    const body = names.map(
      (name, i) => `this[${JSON.stringify(name)}] = v[${i}] === null ? null : p[${i}](v[${i}]);`,
    );
    Row = new Function('v', 'p', body.join('\n')) as RowShape['Row'];
    if (rowConstructors.size < MAX_ROW_CONSTRUCTORS) rowConstructors.set(key, Row);
  }
  return Row;
}

function shapeOf(fields: readonly FieldDescription[], types: TypeSource): RowShape {
  return {
    Row: rowConstructor(fields.map((field) => field.name)),
    parsers: fields.map((field) => types.getTypeParser(field.dataTypeID, 'text')),
  };
}

// node-postgres' Query as it is at run time: its typings leave out what a subclass overrides.
interface QueryInternals {
  name?: string;
  portal: string;
  values?: unknown[];
  binary?: boolean;
  rows?: number;
  callback?: (err: Error | null, result?: unknown) => void;
  _canceledDueToError: Error | false;
  _result: { _types?: TypeSource; rowCount: number | null };
  hasBeenParsed(connection: Connection): boolean;
  _getRows(connection: Connection, rows?: number): void;
  handleError(err: Error, connection: Connection): void;
  prepare(connection: Connection): void;
}

interface Connection {
  parse(query: { text: string; name?: string; types?: unknown }): void;
  bind(config: object): void;
  describe(config: { type: 'P'; name: string }): void;
  close(config: { type: 'S'; name?: string }): void;
  sync(): void;
  submittedNamedStatements: Record<string, string>;
}

const QueryBase = pg.Query as unknown as new (config: {
  text: string;
  values?: unknown[];
  name?: string;
}) => QueryInternals & { text: string; types?: unknown };

// What node-postgres' own Query binds values with; its typings leave out `utils`.
const { prepareValue } = (pg as unknown as { utils: { prepareValue: unknown } }).utils;

/** One run of a raw statement: its rows as objects (see the top of this file). */
export class DescribedQuery extends QueryBase {
  private shape: RowShape | undefined;
  private readonly made: object[] = [];

  constructor(text: string, values: unknown[], name: string | undefined) {
    super({ text, values, name });
    this.shape = name === undefined ? undefined : described.get(name);
  }

  /** node-postgres' Query.prepare, without the Describe when the statement is described here. */
  prepare(connection: Connection): void {
    if (!this.shape) return super.prepare(connection);
    if (!this.hasBeenParsed(connection)) {
      connection.parse({ text: this.text, name: this.name, types: this.types });
      if (this.name) connection.submittedNamedStatements[this.name] = this.text;
    }
    try {
      connection.bind({
        portal: this.portal,
        statement: this.name,
        values: this.values,
        binary: this.binary,
        valueMapper: prepareValue,
      });
    } catch (err) {
      connection.close({ type: 'S', name: this.name });
      connection.sync();
      this.handleError(err as Error, connection);
      return;
    }
    this._getRows(connection, this.rows);
  }

  handleRowDescription(msg: { fields: FieldDescription[] }): void {
    this.shape = shapeOf(msg.fields, this._result._types ?? pg.types);
    if (this.name && described.size < MAX_DESCRIBED) described.set(this.name, this.shape);
  }

  handleDataRow(msg: { fields: Array<string | null> }): void {
    if (this._canceledDueToError) return;
    const { shape } = this;
    if (!shape || shape === NO_ROWS) {
      this._canceledDueToError = new Error('a row came before its statement was described');
      return;
    }
    try {
      this.made.push(new shape.Row(msg.fields, shape.parsers));
    } catch (err) {
      this._canceledDueToError = err as Error;
    }
  }

  handleReadyForQuery(connection: Connection): void {
    if (this._canceledDueToError) {
      const error = this._canceledDueToError;
      this._canceledDueToError = false;
      return this.handleError(error, connection);
    }
    // Described as returning nothing (no RowDescription came): none the next time either.
    if (this.name && !this.shape && described.size < MAX_DESCRIBED)
      described.set(this.name, NO_ROWS);
    const result: DescribedResult = { rows: this.made, rowCount: this._result.rowCount ?? 0 };
    this.callback?.(null, result);
  }
}

/** Runs the statement on the pool or a client of it; its rows as objects, and its row count. */
export function runDescribed(
  target: pg.Pool | pg.PoolClient,
  text: string,
  values: unknown[],
  name: string | undefined,
): Promise<DescribedResult> {
  const query = new DescribedQuery(text, values, name);
  // With a callback, both the pool (which then releases its client) and a client hand the
  // statement's end to it; the query object is what they run (a Submittable). Their typings
  // give a Submittable no callback.
  const runner = target as unknown as {
    query(query: DescribedQuery, callback: (err: Error | null, result?: unknown) => void): void;
  };
  return new Promise((resolve, reject) =>
    runner.query(query, (err, result) => (err ? reject(err) : resolve(result as DescribedResult))),
  );
}
