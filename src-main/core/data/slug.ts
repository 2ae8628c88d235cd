/** Slug of a folder or file name, for import ids: lowercase, dashes, at most 32 characters. */
export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/\.(csv|gz)$/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return slug || 'dataset';
}
