// What to tell a user whose file needs OpenSlide when the library is not installed: the plain install
// line for their platform.

export function openSlideInstallHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'install it with Homebrew (`brew install openslide`) and restart Dinoscope';
  if (platform === 'win32')
    return 'download the OpenSlide Windows binaries zip from https://openslide.org/download/, and put its bin folder (with libopenslide-1.dll) on the PATH, then restart Dinoscope';
  return 'install it (Debian/Ubuntu: `sudo apt install libopenslide0`; Fedora: `sudo dnf install openslide`) and restart Dinoscope';
}
