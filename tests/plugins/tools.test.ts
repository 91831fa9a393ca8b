// A TOOL through runPluginTool: the documented weather example against a local stand-in for
// api.example.com (PLUGIN_ORIGIN_OVERRIDES), with its key from the vault in a header and the
// input percent-encoded into its URL; the stand-in's 400, 404 and 429 (Retry-After) answered
// as results; a reply too slow or too large UPSTREAM_FAILED naming the bound, its body never
// relayed; an input its schema refuses BAD_USER_INPUT at the path.
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { join, mint, teamWithMember, type TeamWithMember } from '../utils/teams.js';
import { example, install, RUN_TOOL, standIn, UPDATE, type StandIn } from './fixture.js';

const h = useHarness();
let stand: StandIn;
let team: TeamWithMember;
let toolId: string;

beforeAll(async () => {
  stand = await standIn(h);
  h.webhooks.pluginOriginOverrides = { 'https://api.example.com': stand.origin };
  team = await teamWithMember(h, 'tools');
  const installed = await install(h, team.owner, {
    teamId: team.teamId,
    manifest: example('weather-tool'),
    grantedScopes: example('weather-tool').scopes,
    secrets: [{ name: 'WEATHER_API_KEY', value: 'wk-test-123' }],
  });
  toolId = installed.id;
});

const run = (input: unknown, key = team.member) => h.gql(RUN_TOOL, { id: toolId, input }, key);

describe('tool plugins', () => {
  it('runs the weather example: input in the URL, the key in a header, the answer as output', async () => {
    const response = await run({ city: 'São Paulo & Rio' });
    expect(response.errors).toBeUndefined();
    expect(response.data.runPluginTool).toMatchObject({
      status: 200,
      output: { city: 'São Paulo & Rio', temperatureC: 21 },
      retryAfterSeconds: null,
    });
    const request = stand.received.at(-1)!;
    expect(request).toMatchObject({ method: 'GET', path: '/weather', body: '' });
    expect(request.headers.authorization).toBe('Bearer wk-test-123');
    expect(request.headers.host).toBe('api.example.com');
    // One query parameter: the & in the value was encoded, not a new parameter.
    expect(response.data.runPluginTool.output.query).toBe('?city=S%C3%A3o%20Paulo%20%26%20Rio');
  });

  it("answers the service's 400, 404 and 429 as results, with Retry-After", async () => {
    const answers = await Promise.all(['400', '404', '429'].map((city) => run({ city })));
    expect(answers.map((r) => r.errors)).toEqual([undefined, undefined, undefined]);
    expect(answers.map((r) => r.data.runPluginTool)).toMatchObject([
      { status: 400, output: { error: 'invalid_payload' } },
      { status: 404, output: 'no_service' },
      { status: 429, output: 'rate_limited', retryAfterSeconds: 7 },
    ]);
    // Past what GraphQL's Int holds: reported as its largest, not a failed field.
    const far = await Promise.all(['429-far', '503-far'].map((city) => run({ city })));
    expect(far.map((r) => r.errors)).toEqual([undefined, undefined]);
    expect(far.map((r) => r.data.runPluginTool)).toMatchObject([
      { status: 429, output: 'rate_limited', retryAfterSeconds: 2_147_483_647 },
      { status: 503, output: 'down', retryAfterSeconds: 2_147_483_647 },
    ]);
  });

  it('refuses a reply past the time bound or over the size bound, naming which', async () => {
    const slow = await run({ city: 'slow' });
    expect(slow.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_FAILED',
      reason: 'TIMEOUT',
    });
    expect(slow.errors?.[0]?.message).toMatch(/within \d+ s/);
    const huge = await run({ city: 'huge' });
    expect(huge.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_FAILED',
      reason: 'REPLY_TOO_LARGE',
    });
    expect(huge.errors?.[0]?.message).toMatch(/256 KB/);
    expect(JSON.stringify(huge)).not.toContain('xxxx');
  });

  it('fails a call whose rendered header HTTP does not allow, sending nothing', async () => {
    // A secret outside Latin-1: Node refuses the header as the request is made.
    const other = await teamWithMember(h, 'tools-bad-header');
    const installed = await install(h, other.owner, {
      teamId: other.teamId,
      manifest: example('weather-tool'),
      grantedScopes: example('weather-tool').scopes,
      secrets: [{ name: 'WEATHER_API_KEY', value: 'wk-한국어' }],
    });
    const before = stand.received.length;
    const refused = await h.gql(
      RUN_TOOL,
      { id: installed.id, input: { city: 'Seoul' } },
      other.owner,
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_FAILED',
      reason: 'REFUSED',
    });
    expect(JSON.stringify(refused)).not.toContain('wk');
    expect(stand.received.length).toBe(before);
  });

  it('refuses an input its schema refuses, at the path, and sends nothing', async () => {
    const before = stand.received.length;
    const cases: Array<[unknown, string]> = [
      [{}, 'input.city'],
      [{ city: 7 }, 'input.city'],
      [{ city: '' }, 'input.city'],
      [{ city: 'Seoul', units: 'F' }, 'input.units'],
      ['Seoul', 'input'],
    ];
    for (const [input, path] of cases) {
      const response = await run(input);
      expect(response.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'input',
        path,
      });
    }
    expect(stand.received.length).toBe(before);
  });

  it("is another team's NOT_FOUND, a viewer's FORBIDDEN, and refused while disabled", async () => {
    const other = await teamWithMember(h, 'tools-other');
    expect(errorCodes(await run({ city: 'Seoul' }, other.owner))).toEqual(['NOT_FOUND']);
    const viewerHome = await mint(h, 'tools-viewer', ['READ']);
    await join(h, team.owner, team.teamId, viewerHome.key, 'VIEWER');
    const viewer = await mint(h, 'tools-viewer', ['READ'], team.teamId, viewerHome.key);
    expect(errorCodes(await run({ city: 'Seoul' }, viewer.key))).toEqual(['FORBIDDEN']);
    const off = await h.gql(UPDATE, { id: toolId, input: { enabled: false } }, team.owner);
    expect(off.errors).toBeUndefined();
    expect(errorCodes(await run({ city: 'Seoul' }))).toEqual(['CONFLICT']);
    await h.gql(UPDATE, { id: toolId, input: { enabled: true } }, team.owner);
    expect(errorCodes(await run({ city: 'Seoul' }))).toEqual([]);
  });
});
