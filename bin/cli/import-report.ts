import type { ImportReport } from '../../functions/admin/user-import.ts';

const number = (n: number) => n.toLocaleString('en-US');

/** The end-of-import report as an operator reads it: counts, then every row left behind and why. */
export function formatImportReport(report: ImportReport): string {
  const rate = report.seconds > 0 ? Math.round(report.total / report.seconds) : report.total;
  const lines = [
    `realm "${report.realm}": ${number(report.total)} row(s) in ${report.seconds.toFixed(1)} s (${number(rate)} rows/s)${report.upsert ? ', --upsert' : ''}`,
    `  imported  ${number(report.imported)}`,
    `  updated   ${number(report.updated)}`,
    `  skipped   ${number(report.skipped)}  (already present)`,
    `  rejected  ${number(report.rejected)}`,
    `  failed    ${number(report.failed)}${report.failed > 0 ? '  (store unavailable: rerun the same file)' : ''}`,
  ];
  if (report.unscreened > 0) {
    lines.push(
      `  not screened  ${number(report.unscreened)}  (imported with a password hash: the password policy screens each at its next change)`,
    );
  }
  if (report.rejections.length > 0) {
    lines.push('rejected rows:');
    for (const r of report.rejections) {
      lines.push(`  row ${r.row}${r.username === undefined ? '' : ` (${r.username})`}: ${r.reason}`);
    }
  }
  if (report.failures.length > 0) {
    lines.push('failed rows:');
    for (const f of report.failures) lines.push(`  row ${f.row} (${f.username}): ${f.reason}`);
  }
  if (report.hashCostClasses.length > 0) {
    // What it costs: see "Failed logins while imported hashes remain" in docs/migrating-users.md.
    lines.push(
      'hashes kept until each user logs in; until then every failed login in the realm verifies one of each:',
    );
    for (const costClass of report.hashCostClasses) lines.push(`  ${costClass}`);
  }
  return lines.join('\n');
}
