import { type Command, InvalidArgumentError, Option } from 'commander';

/**
 * An option that takes one value. Commander lets the last of `--x a --x b` win, which hides a
 * typo; here the second one is a usage error (exit 2). `aliases` are other flags of the same
 * option (`--ticker` for `--symbols`): giving both is a repeat too.
 */
export function singleOption(
  flags: string,
  description: string,
  seen: Map<string, string>,
  key = attributeName(flags),
): Option {
  const flag = flagName(flags);
  return new Option(flags, description).argParser((value: string) => {
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      const what = earlier === flag ? `${flag} was given twice` : `${flag} repeats ${earlier}`;
      const hint = key === 'symbols' ? ' (several symbols: one comma-separated list)' : '';
      throw new InvalidArgumentError(`${what}: give it once${hint}`);
    }
    seen.set(key, flag);
    return value;
  });
}

/** Appends an `Example:` block to a command's `--help`. */
export function withExamples(command: Command, ...lines: string[]): Command {
  return command.addHelpText(
    'after',
    `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`,
  );
}

function flagName(flags: string): string {
  return flags.split(/[ ,]+/).find((f) => f.startsWith('--')) ?? flags;
}

function attributeName(flags: string): string {
  return flagName(flags)
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
