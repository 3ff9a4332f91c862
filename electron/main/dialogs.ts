// Native open dialogs behind the contract's showOpenDialog(kind): images (files and folders,
// multi-select, image filters), a project folder, an export's folder (a new one may be made there), or one
// file: an alignment's pairs CSV or a BPE vocabulary. Cancel resolves to [].
import { dialog, type BrowserWindow, type OpenDialogOptions } from 'electron';
import type { DialogKind } from '../../core/common/api.js';

export type { DialogKind };

/** The image extensions the readers handle (core/data/readers). */
export const imageExtensions = ['svs', 'tif', 'tiff', 'ome.tif', 'ome.tiff', 'btf', 'png', 'jpg', 'jpeg', 'webp', 'dcm'] as const;

export function openDialogOptions(kind: DialogKind): OpenDialogOptions {
  if (kind === 'project') {
    return {
      title: 'Choose a project folder',
      buttonLabel: 'Open Project',
      properties: ['openDirectory', 'createDirectory', 'promptToCreate'],
    };
  }
  if (kind === 'export')
    return {
      title: 'Export to folder',
      buttonLabel: 'Use this folder',
      properties: ['openDirectory', 'createDirectory', 'promptToCreate'],
    };
  if (kind === 'pairs')
    return {
      title: 'Choose the region/caption pairs (CSV)',
      buttonLabel: 'Choose',
      properties: ['openFile'],
      filters: [
        { name: 'CSV', extensions: ['csv'] },
        { name: 'All files', extensions: ['*'] },
      ],
    };
  if (kind === 'vocab')
    return {
      title: 'Choose a BPE vocabulary (bpe_simple_vocab_16e6.txt.gz)',
      buttonLabel: 'Choose',
      properties: ['openFile'],
      filters: [
        { name: 'BPE vocabulary', extensions: ['gz', 'txt'] },
        { name: 'All files', extensions: ['*'] },
      ],
    };
  return {
    title: 'Import images',
    buttonLabel: 'Import',
    // Linux and Windows cannot mix files and folders in one dialog: there it picks files, and folders
    // come by drag-and-drop (macOS offers both at once).
    properties: process.platform === 'darwin' ? ['openFile', 'openDirectory', 'multiSelections'] : ['openFile', 'multiSelections'],
    filters: [
      { name: 'Images and slides', extensions: imageExtensions.map((e) => e.split('.').pop() ?? e) },
      { name: 'All files', extensions: ['*'] },
    ],
  };
}

export async function showOpenDialog(parent: BrowserWindow | null, kind: DialogKind): Promise<string[]> {
  const options = openDialogOptions(kind);
  const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  return result.canceled ? [] : result.filePaths;
}
