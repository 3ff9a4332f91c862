// The native open dialogs' options per kind: the alignment's pairs CSV and BPE vocabulary pick one file
// each (with their filters first), beside the images and project dialogs.
import { describe, expect, it, vi } from 'vitest';
import { DIALOG_KINDS } from '../../core/common/api.js';
import { openDialogOptions } from './dialogs.js';

// Electron's own module (its binary is absent on CI machines); the options are built without it.
vi.mock('electron', () => ({ dialog: {} }));

describe('openDialogOptions', () => {
  it('gives every kind of the contract a titled dialog', () => {
    for (const kind of DIALOG_KINDS) expect(openDialogOptions(kind).title).toBeTruthy();
  });

  it('picks one CSV for the pairs and one vocabulary file, all files allowed as a second filter', () => {
    const pairs = openDialogOptions('pairs');
    expect(pairs.properties).toEqual(['openFile']);
    expect(pairs.filters?.[0]).toEqual({ name: 'CSV', extensions: ['csv'] });
    expect(pairs.filters?.[1].extensions).toEqual(['*']);
    const vocab = openDialogOptions('vocab');
    expect(vocab.properties).toEqual(['openFile']);
    expect(vocab.filters?.[0].extensions).toEqual(['gz', 'txt']);
    expect(openDialogOptions('project').properties).toContain('openDirectory');
  });

  it('picks one folder for an export, where a new folder may be made', () => {
    const folder = openDialogOptions('export');
    expect(folder.properties).toEqual(['openDirectory', 'createDirectory', 'promptToCreate']);
    expect(folder.filters).toBeUndefined();
  });
});
