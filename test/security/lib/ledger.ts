// Every hostile attempt of the security suite, with what the servers answered. The suite asserts
// each attempt was refused the way it should be, and writes RESULTS.md from this ledger: cases
// tried, cases refused, and "0 accepted" only when no attempt got through.
import { writeFileSync } from 'node:fs';

export interface Outcome {
  /** What the server answered, e.g. `403 AccessDenied`, `400 content_length_required`, `exit 2`. */
  answer: string;
  /** True when the attack was refused as it must be (and nothing stored was changed). */
  refused: boolean;
}

export interface Entry extends Outcome {
  hole: string;
  name: string;
}

export class Ledger {
  readonly entries: Entry[] = [];

  record(hole: string, name: string, outcome: Outcome): Outcome {
    this.entries.push({ hole, name, ...outcome });
    return outcome;
  }

  get accepted(): Entry[] {
    return this.entries.filter((e) => !e.refused);
  }

  /** RESULTS.md: deterministic (no timings), so a green run leaves the committed file unchanged. */
  write(file: string, holes: Record<string, string>, command: string): void {
    const tried = this.entries.length;
    const refused = tried - this.accepted.length;
    const lines = [
      '# Security suite: results',
      '',
      `Written by \`${command}\` (part of \`pnpm test\`) against the real servers: chute-server`,
      'processes in each auth mode, local-r2 as the bucket, redis-server for shared limits, driven with',
      'raw HTTP, presigned URLs and the AWS SDK.',
      '',
      `**${tried} cases tried, ${refused} refused${this.accepted.length === 0 ? ', 0 accepted' : `, ${this.accepted.length} ACCEPTED`}.**`,
      '',
      '| hole | attack | answer | refused |',
      '| --- | --- | --- | --- |',
    ];
    for (const e of this.entries) {
      lines.push(`| ${e.hole} | ${e.name.replace(/\|/g, '\\|')} | ${e.answer.replace(/\|/g, '\\|')} | ${e.refused ? 'yes' : '**NO**'} |`);
    }
    lines.push('', '## The holes', '');
    for (const [id, text] of Object.entries(holes)) lines.push(`${id}. ${text}`);
    lines.push('');
    writeFileSync(file, lines.join('\n'));
  }
}
