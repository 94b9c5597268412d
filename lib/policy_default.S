/* The embedded default policy: policies/ministry.conf, byte for byte. */
	.section .rodata
	.globl policy_default_text
	.hidden policy_default_text
	.type policy_default_text, @object
policy_default_text:
	.incbin "policies/ministry.conf"
policy_default_end:
	.byte 0
	.globl policy_default_len
	.hidden policy_default_len
	.type policy_default_len, @object
	.balign 8
policy_default_len:
	.quad policy_default_end - policy_default_text
	.section .note.GNU-stack,"",@progbits
