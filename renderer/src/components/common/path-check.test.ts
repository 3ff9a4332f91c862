import { describe, expect, it } from 'vitest';
import type { DirectoryListing } from '../../../../core/common/api.js';
import { isAbsolutePath, matchesExtensions, pathFormProblem, pathProblem, splitPath } from './path-check.js';

// A folder as the host's listDirectory answers it.
const captions: DirectoryListing = {
  path: '/data/captions',
  parent: '/data',
  entries: [
    { name: 'old', path: '/data/captions/old', kind: 'dir' },
    { name: 'pairs.csv', path: '/data/captions/pairs.csv', kind: 'file', bytes: 120 },
  ],
};

describe('a path in a PathField', () => {
  it('is absolute on Linux, macOS and Windows, and splits into its folder and name', () => {
    for (const p of ['/data/a.csv', 'C:\\data\\a.csv', 'c:/data', '\\\\server\\share\\a.csv']) expect(isAbsolutePath(p)).toBe(true);
    for (const p of ['a.csv', 'data/a.csv', '~/a.csv', '']) expect(isAbsolutePath(p)).toBe(false);
    expect(splitPath('/data/captions/pairs.csv')).toEqual({ folder: '/data/captions', name: 'pairs.csv' });
    expect(splitPath('/data/captions/')).toEqual({ folder: '/data', name: 'captions' });
    expect(splitPath('/pairs.csv')).toEqual({ folder: '/', name: 'pairs.csv' });
    expect(splitPath('C:\\pairs.csv')).toEqual({ folder: 'C:\\', name: 'pairs.csv' });
    expect(pathFormProblem('pairs.csv')).toMatch(/full path/);
    expect(pathFormProblem('/data/pairs.csv')).toBeNull();
  });

  it('a file: says in plain words when its folder or the file is missing, or it is a folder', () => {
    expect(pathProblem('/data/captions/pairs.csv', 'file', captions)).toBeNull();
    expect(pathProblem('/data/captions/pair.csv', 'file', captions)).toBe(
      'There is no file pair.csv in /data/captions: check the name, or choose the file with Choose….',
    );
    expect(pathProblem('/data/captions/old', 'file', captions)).toBe('/data/captions/old is a folder: choose a file in it.');
    expect(pathProblem('/nope/pairs.csv', 'file', null)).toBe('There is no folder /nope: check the path, or choose the file with Choose….');
  });

  it('a folder: may be new (the writer creates it), but not a file', () => {
    expect(pathProblem('/data/captions/old', 'folder', captions)).toBeNull();
    expect(pathProblem('/data/captions/new', 'folder', captions)).toBeNull();
    expect(pathProblem('/nope/new', 'folder', null)).toBeNull();
    expect(pathProblem('/data/captions/pairs.csv', 'folder', captions)).toBe(
      "/data/captions/pairs.csv is a file: choose a folder (or a new folder's name).",
    );
  });

  it("offers the files of the field's extensions (any case), every file without any", () => {
    expect(matchesExtensions('pairs.CSV', ['csv'])).toBe(true);
    expect(matchesExtensions('bpe_simple_vocab_16e6.txt.gz', ['txt.gz', 'txt'])).toBe(true);
    expect(matchesExtensions('notes.md', ['csv'])).toBe(false);
    expect(matchesExtensions('notes.md', undefined)).toBe(true);
    expect(matchesExtensions('notes.md', [])).toBe(true);
  });
});
