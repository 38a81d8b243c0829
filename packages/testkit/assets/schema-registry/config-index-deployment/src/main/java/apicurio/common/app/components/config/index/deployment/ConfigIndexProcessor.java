package apicurio.common.app.components.config.index.deployment;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.AnnotationTarget;
import org.jboss.jandex.AnnotationValue;
import org.jboss.jandex.DotName;
import org.jboss.jandex.FieldInfo;
import org.jboss.jandex.Type;

import apicurio.common.app.components.config.index.DynamicPropertiesInfoRecorder;
import io.apicurio.common.apps.config.Dynamic;
import io.apicurio.common.apps.config.DynamicConfigPropertyDef;
import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import io.quarkus.arc.deployment.SyntheticBeanBuildItem;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;
import io.quarkus.deployment.builditem.CombinedIndexBuildItem;

/**
 * Collects every field annotated with both {@code @Dynamic} and {@code @ConfigProperty}
 * (declared as {@code Supplier<T>}) and publishes them as a {@link DynamicConfigPropertyList}
 * bean, which backs the registry's dynamic-config admin API.
 */
class ConfigIndexProcessor {

    private static final DotName DYNAMIC = DotName.createSimple(Dynamic.class.getName());
    private static final DotName CONFIG_PROPERTY = DotName.createSimple(ConfigProperty.class.getName());

    @BuildStep
    @Record(ExecutionTime.STATIC_INIT)
    void dynamicConfigProperties(DynamicPropertiesInfoRecorder recorder, CombinedIndexBuildItem index,
            BuildProducer<SyntheticBeanBuildItem> syntheticBeans) throws ClassNotFoundException {
        List<DynamicConfigPropertyDef> defs = new ArrayList<>();
        for (AnnotationInstance dynamic : index.getIndex().getAnnotations(DYNAMIC)) {
            if (dynamic.target().kind() != AnnotationTarget.Kind.FIELD) {
                continue;
            }
            FieldInfo field = dynamic.target().asField();
            AnnotationInstance configProperty = field.annotation(CONFIG_PROPERTY);
            if (configProperty == null) {
                continue;
            }
            String name = configProperty.value("name").asString();
            AnnotationValue defaultValue = configProperty.value("defaultValue");
            if (defaultValue == null) {
                throw new IllegalStateException("Dynamic config property '" + name + "' needs a defaultValue");
            }
            // Field type is Supplier<T>; the property type is T (Boolean, Long, String, ...).
            Type fieldType = field.type();
            Type valueType = fieldType.kind() == Type.Kind.PARAMETERIZED_TYPE
                    ? fieldType.asParameterizedType().arguments().get(0) : fieldType;

            DynamicConfigPropertyDef def = new DynamicConfigPropertyDef(name,
                    Class.forName(valueType.name().toString()), defaultValue.asString());
            AnnotationValue label = dynamic.value("label");
            AnnotationValue description = dynamic.value("description");
            AnnotationValue requires = dynamic.value("requires");
            if (label != null) {
                def.setLabel(label.asString());
            }
            if (description != null) {
                def.setDescription(description.asString());
            }
            if (requires != null) {
                def.setRequires(requires.asStringArray());
            }
            defs.add(def);
        }

        syntheticBeans.produce(SyntheticBeanBuildItem.configure(DynamicConfigPropertyList.class)
                .scope(javax.inject.Singleton.class)
                .runtimeValue(recorder.initializePropertiesInfo(defs))
                .unremovable()
                .done());
    }
}
