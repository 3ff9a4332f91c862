// Well-known public checkpoints, downloadable by id. Repository names were checked against the
// transformers conversion scripts (convert_dinov2_with_registers_to_hf.py pushes dinov2-with-registers-*;
// convert_dinov3_vit_to_hf.py's HUB_MODELS lists facebook/dinov3-vit*16-pretrain-lvd1689m). Files come from
// huggingface.co's resolve endpoint, which redirects to a CDN and states each file's sha256 in
// X-Linked-Etag; download.ts verifies against it.
import type { CatalogueModelInfo } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';

export interface CatalogueFile {
  name: 'model.safetensors' | 'config.json';
  url: string;
  /** Pinned sha256 when known; otherwise the server-stated one is checked. */
  sha256?: string;
}

/** A catalogue entry: the API's CatalogueModelInfo fields (size narrowed, `installed` is the manager's to add) plus its files. */
export interface CatalogueModel extends Omit<CatalogueModelInfo, 'size' | 'installed'> {
  size: 'small' | 'base' | 'large';
  files: CatalogueFile[];
}

const HF = 'https://huggingface.co';

function hf(repo: string): { homepage: string; files: CatalogueFile[] } {
  return {
    homepage: `${HF}/${repo}`,
    files: [
      { name: 'model.safetensors', url: `${HF}/${repo}/resolve/main/model.safetensors` },
      { name: 'config.json', url: `${HF}/${repo}/resolve/main/config.json` },
    ],
  };
}

const DINOV2_LICENCE = { licence: 'Apache-2.0', licenceUrl: 'https://www.apache.org/licenses/LICENSE-2.0', gated: false };
const DINOV3_LICENCE = {
  licence: 'DINOv3 License',
  licenceUrl: 'https://ai.meta.com/resources/models-and-libraries/dinov3-license/',
  gated: true,
  note: 'Gated on Hugging Face: sign in, accept the DINOv3 License on the model page, then supply an access token (huggingface.co/settings/tokens) when downloading.',
};

export const catalogue: readonly CatalogueModel[] = [
  {
    id: 'dinov2-reg-small',
    name: 'DINOv2 ViT-S/14 with registers',
    arch: 'dinov2',
    size: 'small',
    patchSize: 14,
    registers: 4,
    params: 22_000_000,
    bytes: 88_000_000,
    ...DINOV2_LICENCE,
    ...hf('facebook/dinov2-with-registers-small'),
  },
  {
    id: 'dinov2-reg-base',
    name: 'DINOv2 ViT-B/14 with registers',
    arch: 'dinov2',
    size: 'base',
    patchSize: 14,
    registers: 4,
    params: 86_000_000,
    bytes: 346_000_000,
    ...DINOV2_LICENCE,
    ...hf('facebook/dinov2-with-registers-base'),
  },
  {
    id: 'dinov2-reg-large',
    name: 'DINOv2 ViT-L/14 with registers',
    arch: 'dinov2',
    size: 'large',
    patchSize: 14,
    registers: 4,
    params: 304_000_000,
    bytes: 1_220_000_000,
    ...DINOV2_LICENCE,
    ...hf('facebook/dinov2-with-registers-large'),
  },
  {
    id: 'dinov3-vits16',
    name: 'DINOv3 ViT-S/16 (LVD-1689M)',
    arch: 'dinov3',
    size: 'small',
    patchSize: 16,
    registers: 4,
    params: 21_600_000,
    bytes: 86_500_000,
    ...DINOV3_LICENCE,
    ...hf('facebook/dinov3-vits16-pretrain-lvd1689m'),
  },
  {
    id: 'dinov3-vitb16',
    name: 'DINOv3 ViT-B/16 (LVD-1689M)',
    arch: 'dinov3',
    size: 'base',
    patchSize: 16,
    registers: 4,
    params: 85_700_000,
    bytes: 343_000_000,
    ...DINOV3_LICENCE,
    ...hf('facebook/dinov3-vitb16-pretrain-lvd1689m'),
  },
  {
    id: 'dinov3-vitl16',
    name: 'DINOv3 ViT-L/16 (LVD-1689M)',
    arch: 'dinov3',
    size: 'large',
    patchSize: 16,
    registers: 4,
    params: 303_000_000,
    bytes: 1_210_000_000,
    ...DINOV3_LICENCE,
    ...hf('facebook/dinov3-vitl16-pretrain-lvd1689m'),
  },
];

export function catalogueEntry(id: string): CatalogueModel {
  const m = catalogue.find((c) => c.id === id);
  if (!m)
    throw new DinoscopeError(
      'BAD_INPUT',
      `"${id}" is not in the model catalogue (${catalogue.map((c) => c.id).join(', ')}) and not an http(s) URL.`,
    );
  return m;
}
