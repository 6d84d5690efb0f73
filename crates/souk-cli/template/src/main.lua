-- {{name}}: the host platform runs this file when the module starts.

print("{{name}} loaded")
