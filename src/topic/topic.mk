# topic: SNS-style topics
OBJS += src/topic/topic_api.o src/topic/topic_catalog.o src/topic/topic_acl.o \
	src/topic/topic_attrs.o src/topic/topic_subscribe.o src/topic/topic_publish.o \
	src/topic/topic_deliver.o
INSTALL_PIECES += src/topic/topic.sql
