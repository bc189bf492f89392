// The sign-in flags of the CLI: `--login` on the commands that talk to the server (not on login
// or logout), `--client-id auto` and `--client-metadata-url` choosing how the client is
// identified, and the combinations refused before anything is contacted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine } from '../../../mcp-client/src/cli/args.ts';
import { loginClientOf } from '../../../mcp-client/src/cli/login-commands.ts';
import { main } from '../../../mcp-client/src/cli.ts';
import { isClientError } from '../../../mcp-client/src/errors.ts';

describe('CLI sign-in flags', () => {
  it('takes --login on the commands that talk to the server, not on logout', () => {
    for (const argv of [['tools'], ['ls', '.'], ['cat', 'a.txt'], ['call', 't', '{}'], ['whoami'], ['demo']]) {
      assert.equal(parseCommandLine([...argv, '--login']).login, true, argv.join(' '));
    }
    assert.equal(parseCommandLine(['tools']).login, false);
    assert.throws(
      () => parseCommandLine(['logout', '--login']),
      (err) => isClientError(err, 'config'),
    );
  });

  it('picks the client: this realm’s by default, a given one, or none registered beforehand (auto)', () => {
    assert.deepEqual(loginClientOf(parseCommandLine(['login'])), { kind: 'pre-registered', clientId: 'mcp-cli' });
    assert.deepEqual(loginClientOf(parseCommandLine(['login', '--device'])), {
      kind: 'pre-registered',
      clientId: 'mcp-cli-device',
    });
    assert.deepEqual(loginClientOf(parseCommandLine(['login', '--client-id', 'x'])), {
      kind: 'pre-registered',
      clientId: 'x',
    });
    assert.deepEqual(loginClientOf(parseCommandLine(['tools', '--login', '--client-id', 'auto'])), {
      kind: 'auto',
      metadataUrl: undefined,
    });
    const doc = 'https://client.example/mcp.json';
    assert.deepEqual(loginClientOf(parseCommandLine(['login', '--client-metadata-url', doc])), {
      kind: 'auto',
      metadataUrl: doc,
    });
  });

  it('refuses a metadata URL that is not https with a path, and --device without a registered client', () => {
    for (const url of ['http://client.example/mcp.json', 'https://client.example', 'https://client.example/']) {
      assert.throws(
        () => loginClientOf(parseCommandLine(['login', '--client-metadata-url', url])),
        (err) => isClientError(err, 'config') && err.message.includes(url),
      );
    }
    assert.throws(
      () => loginClientOf(parseCommandLine(['login', '--device', '--client-id', 'auto'])),
      (err) => isClientError(err, 'config') && /--device/.test(err.message),
    );
  });

  it('refuses --login next to a client secret or a static token (exit 2), contacting nothing', async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), bytes: () => undefined };
    const env = { SERVER_URL: 'http://127.0.0.1:1/mcp', OAUTH_ACCESS_TOKEN: 't', XDG_CONFIG_HOME: '/nonexistent' };
    assert.equal(await main(['tools', '--login'], env, io), 2);
    assert.match(out.join('\n'), /--login signs you in as a person/);
  });
});
