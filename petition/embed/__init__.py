"""The widget partners embed: embed.js, the framed signing page, and the share page for partners."""
