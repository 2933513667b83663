/**
 * Release notes are vendor Markdown (S3) shown in a window: rendered with marked and sanitized with sanitize-html in
 * the main process, so the renderer only ever receives an allow-listed fragment — no scripts, no event handlers, no
 * images, no styles, links only to http(s) and opened outside the app. The window's CSP (script-src 'self', no inline)
 * is the second wall: even a fragment that slipped through could not run. marked is an ES module only, hence the
 * dynamic import once at composition.
 */
import sanitizeHtml from 'sanitize-html';

const ALLOWED_TAGS = ['p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td'];

export type NotesRenderer = (markdown: string) => string;

export async function loadNotesRenderer(): Promise<NotesRenderer> {
  const { marked } = await import('marked');
  // marked passes raw HTML through; the sanitizer is what makes it safe.
  return (markdown) => sanitizeNotes(marked.parse(markdown, { async: false, gfm: true, breaks: false }));
}

export function sanitizeNotes(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: { a: ['href', 'title', 'rel', 'target'], th: ['align'], td: ['align'] },
    allowedSchemes: ['http', 'https'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer', target: '_blank' }) },
  });
}
