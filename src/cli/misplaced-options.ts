/**
 * Commander reads the program's own options (`--url`, `--api-key`, …) anywhere on the line, so
 * a program option written after a subcommand whose own option it resembles is silently taken
 * for the program's: `herald subscriptions create --url http://…/hook` would send the create to
 * the receiver. These are refused before anything is sent, naming the option meant.
 */
const MISTAKES: { commands: string[][]; option: string; meant: string; because: string }[] = [
  {
    commands: [
      ['subscriptions', 'create'],
      ['subscriptions', 'update'],
      ['subs', 'create'],
      ['subs', 'update'],
    ],
    option: '--url',
    meant: '--webhook',
    because: "--url names the Herald API; a subscription's webhook target is --webhook",
  },
];

/** The refusal for `args` (the words after `herald`), or undefined when none applies. */
export function misplacedOption(args: readonly string[]): string | undefined {
  for (const mistake of MISTAKES) {
    for (const words of mistake.commands) {
      const at = args.findIndex((_, i) => words.every((w, k) => args[i + k] === w));
      if (at < 0) continue;
      const after = args.slice(at + words.length);
      const end = after.indexOf('--'); // what follows `--` is an operand, not an option
      if ((end < 0 ? after : after.slice(0, end)).some((a) => a === mistake.option || a.startsWith(`${mistake.option}=`))) {
        return `${mistake.option} after "${words.join(' ')}": ${mistake.because}. Did you mean ${mistake.meant}? (Give --url before the command to name the API.)`;
      }
    }
  }
  return undefined;
}
