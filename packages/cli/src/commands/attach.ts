/**
 * `cedana attach JID|--pid PID` and `cedana job attach JID`: the job's stdout and
 * stderr come to ours, our stdin goes to the job, and we exit with the job's exit
 * code. Ctrl+C detaches: the job goes on, and we exit 0. The terminal stays in
 * line mode (no raw mode): Ctrl+D closes the job's stdin.
 */
import { CedanaError } from '@cedana/core';
import type { AttachReq } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import type { AttachCall } from '../daemon-api.js';
import { UsageError } from '../exit-codes.js';
import { action, type CliDeps, type GlobalArgs, type Session } from '../session.js';

export type AttachTarget = { jid: string } | { pid: number };
export type AttachResult = { exitCode: number } | { detached: true };

type AttachIo = Pick<CliDeps, 'stdin' | 'stdout' | 'stderr' | 'onSignal'>;

const req = (over: Partial<AttachReq>): AttachReq => ({ jid: '', pid: 0, stdin: Buffer.alloc(0), closeStdin: false, ...over });

/** Pumps I/O between our streams and an Attach call until the job exits or we detach. */
export function pumpAttach(call: AttachCall, target: AttachTarget, io: AttachIo): Promise<AttachResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onData = (chunk: Buffer) => call.write(req({ stdin: chunk }));
    const onEnd = () => call.write(req({ closeStdin: true }));
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      offSigint();
      io.stdin.off('data', onData);
      io.stdin.off('end', onEnd);
      io.stdin.pause();
      done();
    };
    const offSigint = io.onSignal('SIGINT', () =>
      settle(() => {
        call.cancel();
        resolve({ detached: true });
      }),
    );
    call.on('data', (resp) => {
      const out = resp.output;
      if (out?.$case === 'stdout') io.stdout.write(out.value);
      else if (out?.$case === 'stderr') io.stderr.write(out.value);
      else if (out?.$case === 'exitCode') {
        settle(() => {
          call.end();
          resolve({ exitCode: out.value });
        });
      }
    });
    call.on('error', (err) => settle(() => reject(err)));
    call.on('end', () =>
      settle(() =>
        reject(
          new CedanaError('CEDANA_ERR_INTERNAL', 'the daemon closed the attach stream without an exit code', {
            hint: 'the daemon may have stopped: run `cedana daemon check`',
          }),
        ),
      ),
    );
    call.write(req('jid' in target ? { jid: target.jid } : { pid: target.pid }));
    io.stdin.on('data', onData);
    io.stdin.on('end', onEnd);
  });
}

/** Attaches and sets the session's exit code: the job's, or 0 when detached. */
export async function attach(session: Session, argv: GlobalArgs, target: AttachTarget): Promise<void> {
  const client = await session.client(argv);
  const result = await pumpAttach(await client.attach(), target, session.deps);
  if ('detached' in result) {
    session.err('detached; the job goes on');
    session.exitCode = 0;
  } else {
    session.exitCode = result.exitCode;
  }
}

interface AttachArgs extends GlobalArgs {
  jid?: string;
  pid?: number;
}

export function attachCommand(session: Session): CommandModule {
  return {
    command: 'attach [jid]',
    describe: "Attach to a job's stdin, stdout and stderr (Ctrl+C detaches)",
    builder: (y: Argv) =>
      y
        .positional('jid', { type: 'string', describe: 'job ID' })
        .option('pid', { alias: 'p', type: 'number', describe: 'attach to the job of this PID instead' })
        .conflicts('jid', 'pid')
        .example('$0 attach myjob', 'follow the output of job "myjob"')
        .example('$0 attach --pid 4242', 'attach by PID'),
    handler: action<AttachArgs>(session, async (argv) => {
      if (argv.jid !== undefined) return attach(session, argv, { jid: argv.jid });
      if (argv.pid !== undefined && Number.isInteger(argv.pid) && argv.pid > 0) return attach(session, argv, { pid: argv.pid });
      throw new UsageError('name the job: `cedana attach JID` or `cedana attach --pid PID`');
    }),
  };
}

export function jobAttachCommand(session: Session): CommandModule {
  return {
    command: 'attach <jid>',
    describe: "Attach to a job's stdin, stdout and stderr (Ctrl+C detaches)",
    builder: (y: Argv) => y.positional('jid', { type: 'string', describe: 'job ID' }),
    handler: action<AttachArgs & { jid: string }>(session, (argv) => attach(session, argv, { jid: argv.jid })),
  };
}
