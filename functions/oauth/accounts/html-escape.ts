/** HTML escaping of text and attribute values (quotes included): nothing a user sent becomes markup. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
